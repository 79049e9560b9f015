// `spt-seg export` and `spt-seg import` end to end on files (the numerics against PyTorch are in
// test/model/interop.test.ts): the exported .pt is byte-identical to the one torch loaded with
// weights_only=True (its sha256 is in the fixture); a training checkpoint needs --base and then gives the
// checkpoint's trainable tensors over the base's frozen ones; an mmseg checkpoint from torch.save imports
// and loads with loadSptSeg to torch's logits; bad files fail with exit 1 and a message naming the problem.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { tensor, type Tensor } from '../../engine/index.ts';
import { parseSafetensors, serializeSafetensors, toFloat32, type RawTensor } from '../../engine/io/safetensors.ts';
import { readTorchArchive } from '../../engine/io/torchscript.ts';
import type { CliIO } from '../../cli/command.ts';
import { main } from '../../cli/spt-seg.ts';
import { loadSptSeg } from '../../model/index.ts';
import { saveCheckpoint } from '../../train/checkpoint.ts';
import { relErr } from '../model/fixtures.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'spt-seg-interop-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function capture(): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [], stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capture();
  const code = await main(argv, io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const fixture = (name: string) => parseSafetensors(readFileSync(FIXTURES + name), name);
const asTensor = (r: RawTensor, k: string): Tensor => tensor(toFloat32(r, k), r.shape);

// The fixed tiny model of the fixtures: grid8's weights (F16 values), as a weights-only file.
const grid8 = fixture('sptseg/grid8.safetensors').tensors;
const weights = new Map([...grid8].filter(([k]) => /^(backbone|decode_head)\./.test(k)));
const weightsFile = join(dir, 'weights.safetensors');
writeFileSync(weightsFile, serializeSafetensors(weights));

t.test('export --format pt writes the bytes torch loaded with weights_only=True', async (tt) => {
  const out = join(dir, 'spt.pt');
  const r = await run('export', weightsFile, out);
  tt.equal(r.code, 0, r.err);
  tt.match(r.out, /wrote .*spt\.pt: torch\.save zip, 75 tensors, 159,736 parameters, float32/);
  tt.equal(sha256(readFileSync(out)), fixture('interop/export.safetensors').metadata['sha256.pt'], 'the .pt format is inferred from the name');
  const mm = join(dir, 'spt.pth');
  tt.equal((await run('export', weightsFile, mm, '--mmseg')).code, 0);
  tt.equal(sha256(readFileSync(mm)), fixture('interop/export.safetensors').metadata['sha256.mmseg']);
  const st = join(dir, 'spt.safetensors');
  tt.equal((await run('export', weightsFile, st)).code, 0);
  tt.equal(sha256(readFileSync(st)), fixture('interop/export.safetensors').metadata['sha256.safetensors']);
  const bad = await run('export', weightsFile, join(dir, 'x.safetensors'), '--mmseg');
  tt.equal(bad.code, 2);
  tt.match(bad.err, /--mmseg needs --format pt/);
});

t.test('export of a training checkpoint: --base gives the frozen tensors', async (tt) => {
  // What train/loop.ts writes for SPT-SEG: the trainable tensors under model/, plus optimizer state.
  const trainable = ['backbone.prompt_embeddings', 'decode_head.q_proj.weight'];
  const moved = new Map(trainable.map((k) => [k, asTensor(weights.get(k)!, k).add(1)]));
  const ckpt = join(dir, 'checkpoint.safetensors');
  await saveCheckpoint(ckpt, { step: 3, model: Object.fromEntries(moved), optimizer: { state: { 0: { expAvg: tensor([1, 2], [2]) } } } });
  const out = join(dir, 'from-ckpt.safetensors');
  const noBase = await run('export', ckpt, out);
  tt.equal(noBase.code, 1);
  tt.match(noBase.err, /is a training checkpoint: it holds only the 2 trainable tensors \(model\/\*\); pass --base/);
  const r = await run('export', ckpt, join(dir, 'from-ckpt.pt'), '--base', weightsFile);
  tt.equal(r.code, 0, r.err);
  tt.match(r.out, /spt-seg training checkpoint \(keys under "model\/"\)/);
  tt.match(r.out, /base {5}73 frozen tensors from --base/);
  tt.match(r.out, /dropped {2}1 tensors that are not weights: optimizer\/state\/0\/expAvg/);
  const back = readTorchArchive(readFileSync(join(dir, 'from-ckpt.pt')), 'from-ckpt.pt').tensors;
  tt.equal(back.size, 75);
  for (const k of trainable) tt.same(Array.from(toFloat32(back.get(k)!)), Array.from(moved.get(k)!.data()), `${k} from the checkpoint`);
  tt.same(Array.from(toFloat32(back.get('backbone.conv1.weight')!)), Array.from(toFloat32(weights.get('backbone.conv1.weight')!)), 'frozen tensors from the base');
});

t.test('import an mmseg checkpoint saved by torch: loads here to torch\'s logits', async (tt) => {
  const out = join(dir, 'imported.safetensors');
  const r = await run('import', FIXTURES + 'interop/torch_mmseg.pth', out);
  tt.equal(r.code, 0, r.err);
  tt.match(r.out, /torch\.save zip \(keys under "state_dict\."\)/);
  tt.match(r.out, /dropped {2}1 tensors that are not weights: optimizer\.state\.0\.exp_avg/);
  tt.match(r.out, /ignored {2}9 weights the official forward never uses: backbone\.proj_fre\.weight/);
  const ref = fixture('interop/import.safetensors').tensors;
  const model = await loadSptSeg(out);
  const logits = model.forward(asTensor(ref.get('in.image')!, 'in.image'), asTensor(ref.get('in.text')!, 'in.text')).maskLogits;
  const err = relErr(logits, asTensor(ref.get('torch.logits')!, 'torch.logits'));
  tt.ok(err <= 1e-5, `imported file: max rel error ${err.toExponential(2)} <= 1e-5`);
  tt.equal(parseSafetensors(readFileSync(out), out).tensors.get('backbone.complex_weight')!.dtype, 'F32');
});

t.test('import refuses bad files with a message naming the problem', async (tt) => {
  const misShaped = new Map(weights);
  misShaped.set('decode_head.decoder_1.layers.1.norm2.bias', { dtype: 'F32', shape: [31], data: new Float32Array(31) });
  const f = join(dir, 'mis-shaped.safetensors');
  writeFileSync(f, serializeSafetensors(misShaped));
  const r = await run('import', f, join(dir, 'never.safetensors'));
  tt.equal(r.code, 1);
  tt.match(r.err, /size mismatch for decode_head\.decoder_1\.layers\.1\.norm2\.bias: expected shape \[32\] \(from the inferred architecture\), got \[31\]/);
  const notWeights = await run('import', weightsFile.replace('weights', 'missing'), join(dir, 'never.safetensors'));
  tt.equal(notWeights.code, 1);
  tt.match(notWeights.err, /<in> .*missing\.safetensors: no such file/, 'names the argument, not ENOENT');
  const ckpt = await run('import', join(dir, 'checkpoint.safetensors'), join(dir, 'never.safetensors'));
  tt.equal(ckpt.code, 1);
  tt.match(ckpt.err, /training checkpoint; use spt-seg export/);
});
