// Lets TypeScript import .css files, which esbuild bundles as text (loader: { '.css': 'text' }).
declare module '*.css' {
  const text: string;
  export default text;
}
