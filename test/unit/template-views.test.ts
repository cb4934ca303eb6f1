// A live view opened on a template's map reads what template.json declares for it (histogram scale and unit with
// the saved parameter values); a plain probe or another map declares nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { bundledTemplatesDir } from '../../engine/templates/template-catalog';
import { templateHistogramSpec } from '../../engine/templates/template-views';

test('the syscall-latency template declares its histogram in µs, log2, slots per comm', () => {
  const source = join(bundledTemplatesDir(), 'syscall-latency', 'syscall-latency.bpf.c');
  assert.deepEqual(templateHistogramSpec(source, 'hists'), { scale: 'log2', unit: 'us', slotsField: 'slots', labelField: 'comm' });
  assert.equal(templateHistogramSpec(source, 'no_such_map'), undefined);
  assert.equal(templateHistogramSpec(join(__dirname, '..', 'fixtures', 'editor-workspace', 'getppid-latency.bpf.c'), 'hists'), undefined);
});
