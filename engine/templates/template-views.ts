// What a probe's template (template.json next to it) declares about one of its maps: the histogram view's scale
// and unit with the saved parameter values, for live views opened on that map. Reads the template folder.
import type { HistogramSpec } from '../../protocol/webview-messages';
import { histogramUnit, localMachine } from './template-parameters';
import { templateRunOptionsForProbe } from './template-run-options';

/** The histogram spec the probe's template declares for `map`; undefined for a plain probe or another map. */
export function templateHistogramSpec(sourcePath: string, map: string): HistogramSpec | undefined {
  let options: ReturnType<typeof templateRunOptionsForProbe>;
  try {
    options = templateRunOptionsForProbe(sourcePath, localMachine());
  } catch {
    return undefined;
  }
  const view = options?.template.manifest.views.find((v) => v.kind === 'histogram' && v.map === map);
  if (!options || view?.kind !== 'histogram') return undefined;
  return { scale: view.scale, unit: histogramUnit(view, options.values), slotsField: view.slotsField, ...(view.labelField ? { labelField: view.labelField } : {}) };
}
