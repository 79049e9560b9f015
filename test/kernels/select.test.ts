// Backend choice: the fastest correct CPU path is the default; useDevice names and errors.
import t from 'tap';
import { getBackend, setBackend, tensor, useDevice } from '../../engine/index.ts';
import { wasmUnavailableReason } from '../../kernels/wasm/index.ts';

t.test('the default backend is wasm where it can run', async (t) => {
  const reason = wasmUnavailableReason();
  t.equal(getBackend().name, reason === null ? 'wasm' : 'cpu', reason ?? 'wasm available');
  t.equal(tensor([1, 2]).storage.backend.name, getBackend().name);
});

t.test('useDevice picks by name and refuses unknown ones', async (t) => {
  t.equal(useDevice('cpu', { quiet: true }).name, 'cpu');
  t.equal(useDevice('auto', { quiet: true }).name, wasmUnavailableReason() === null ? 'wasm' : 'cpu');
  t.throws(() => useDevice('tpu', { quiet: true }), /unknown device "tpu"; choose one of: auto, cpu, wasm, gpu/);
  t.throws(() => setBackend('nope'), /unknown backend "nope"/);
});
