// Lets TypeScript import .css files, which esbuild bundles as text (loader: { '.css': 'text' }).
// Talks to nothing: a type declaration only.
declare module '*.css' {
  const text: string;
  export default text;
}
