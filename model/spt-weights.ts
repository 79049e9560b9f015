/**
 * Loading SPT-SEG weights: a safetensors state dict under the OFFICIAL names (method.md §9:
 * `backbone.*`, `decode_head.q_proj.*`, `decode_head.decoder_1.layers.j.*`), architecture inferred
 * from the shapes.
 *
 *   const model = await loadSptSeg('spt_voc.safetensors');        // eval mode
 *   const model = sptSegFromStateDict(tensors, { hiloHeads: 8 });  // in memory
 *   inferSptSegConfig(shapes)                                     // the config alone
 *
 * Inferred: vision width D, patch P (conv1.weight [D, 3, P, P], or the conv stem's conv1.convs.i.*
 *   of model/vit.ts, stride 2 each), layers (resblocks count), heads =
 *   D / 64 (CLIP's rule; `visionHeads` overrides), stored positional grid (positional_embedding
 *   [1 + g², D]), E (proj [D, E]), T (prompt_embeddings [1, T, D]), deep prompt sets
 *   (deep_prompt_embeddings [Ld, T, D], absent = none), the spectral grid (complex_weight
 *   [gh, gw/2+1, D, 2]; gw = gh, the official square grid, unless `spectralGridW`), decoder width
 *   (q_proj.weight [Dd, 2E]), layers, FFN (linear1.weight [F, Dd]) and attention kind (hlfs.* = SPT,
 *   multihead_attn.* = the ZegCLIP baseline).
 * Options (not visible in shapes): HiLo heads (8), alpha (0.9), window (3), spectral blocks (2),
 *   cross-attention heads (8), `clsQuirk`, `p1FromResidual`.
 * Strict: a missing, unexpected or mis-shaped key is an error naming the key (and both shapes). The
 *   modules the official forward never calls are skipped when present and reported in `ignoredKeys`:
 *   backbone.proj_fre.*, per decoder layer self_attn.*, norm1.*, hlfs.h_proj.* (and multihead_attn.*
 *   next to hlfs.*), and the text tower (text_encoder.*) a full segmentor checkpoint carries.
 * Does not: read mmseg .pth pickles (convert to safetensors first) or run the text encoder.
 */
import type { Tensor } from '../engine/index.ts';
import { skipInit } from '../engine/nn/index.ts';
import { nodeFiles } from './node-files.ts';
import { SptSeg, type SptSegConfig } from './segmenter.ts';

/** Settings of an SPT-SEG model that its weights' shapes do not show (see the header for the defaults). */
export interface SptLoadOptions {
  visionHeads?: number;
  hiloHeads?: number;
  hiloAlpha?: number;
  hiloWindow?: number;
  spectralBlocks?: number;
  crossHeads?: number;
  spectralGridW?: number;
  clsQuirk?: boolean;
  p1FromResidual?: boolean;
}

const UNUSED = [
  /^backbone\.proj_fre\./, /^text_encoder\./,
  /^decode_head\.decoder_1\.layers\.\d+\.(self_attn|norm1|hlfs\.h_proj)\./,
];

/** Keys of modules the official forward never calls (given the attention kind in use). */
export function isUnused(key: string, attention: 'hilo' | 'cross'): boolean {
  if (UNUSED.some((re) => re.test(key))) return true;
  return attention === 'hilo' && /^decode_head\.decoder_1\.layers\.\d+\.multihead_attn\./.test(key);
}

/**
 * An SPT-SEG weights file that does not fit the model: the message names the file and each key (and shapes).
 *
 * @example
 * try { await loadSptSeg(path); } catch (e) { if (e instanceof SptWeightsError) console.error(e.message); }
 */
export class SptWeightsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SptWeightsError';
  }
}

/**
 * The architecture of a state dict from its shapes (see the header).
 *
 * @example
 * inferSptSegConfig(new Map([...dict].map(([k, t]) => [k, t.shape]))).encoder.numTokens;   // 10 for VOC
 */
export function inferSptSegConfig(shapes: ReadonlyMap<string, readonly number[]>, opts: SptLoadOptions = {}, source = '<state dict>'): SptSegConfig {
  const get = (key: string, rank: number): readonly number[] => {
    const s = shapes.get(key);
    if (!s) throw new SptWeightsError(`${source}: missing key ${key} (not an SPT-SEG state dict under the official names?)`);
    if (s.length !== rank) throw new SptWeightsError(`${source}: ${key} has shape [${s.join(', ')}], expected ${rank} dims`);
    return s;
  };
  const count = (re: RegExp) => new Set([...shapes.keys()].map((k) => re.exec(k)?.[1]).filter((x) => x !== undefined)).size;
  // The stem: CLIP's patch conv (conv1.weight [D, 3, P, P]) or the ConvStem option of model/vit.ts
  // (conv1.convs.i.weight [C_i, C_i-1, 3, 3], stride 2 each: P = 2^convs), as the world CLIP has.
  const stemConvs = count(/^backbone\.conv1\.convs\.(\d+)\.weight$/);
  const stemOuts = Array.from({ length: stemConvs }, (_, i) => get(`backbone.conv1.convs.${i}.weight`, 4));
  const [D, C3, P] = stemConvs > 0 ? [stemOuts[stemConvs - 1][0], stemOuts[0][1], 2 ** stemConvs] : get('backbone.conv1.weight', 4);
  const stem = stemConvs > 0 ? { stem: 'conv' as const, stemWidths: stemOuts.slice(0, -1).map((s) => s[0]) } : {};
  if (C3 !== 3) throw new SptWeightsError(`${source}: the backbone's first conv (conv1) takes ${C3} channels, it must take 3 colour channels`);
  const posRows = get('backbone.positional_embedding', 2)[0];
  const g = Math.round(Math.sqrt(posRows - 1));
  if (g * g + 1 !== posRows) throw new SptWeightsError(`${source}: backbone.positional_embedding has ${posRows} rows, not 1 + g² for a square grid`);
  const layers = count(/^backbone\.transformer\.resblocks\.(\d+)\./);
  const E = get('backbone.proj', 2)[1];
  const T = get('backbone.prompt_embeddings', 3)[1];
  const deep = shapes.has('backbone.deep_prompt_embeddings') ? get('backbone.deep_prompt_embeddings', 3)[0] : 0;
  let spectralGrid: [number, number] | null = null;
  if (shapes.has('backbone.complex_weight')) {
    const [gh, wf] = get('backbone.complex_weight', 4);
    const gw = opts.spectralGridW ?? gh;
    if (Math.floor(gw / 2) + 1 !== wf) {
      throw new SptWeightsError(`${source}: backbone.complex_weight [${shapes.get('backbone.complex_weight')!.join(', ')}] has ${wf} frequency columns, which no ${gh}x${gw} grid gives (gw/2 + 1); pass spectralGridW`);
    }
    spectralGrid = [gh, gw];
  }
  const [Dd, twoE] = get('decode_head.q_proj.weight', 2);
  if (twoE !== 2 * E) throw new SptWeightsError(`${source}: decode_head.q_proj.weight [${Dd}, ${twoE}] should take 2·E = ${2 * E} inputs (E from backbone.proj)`);
  const decLayers = count(/^decode_head\.decoder_1\.layers\.(\d+)\./);
  const ffn = get('decode_head.decoder_1.layers.0.linear1.weight', 2)[0];
  const attention = shapes.has('decode_head.decoder_1.layers.0.hlfs.prompt') ? 'hilo' : 'cross';
  return {
    encoder: {
      vision: { imageSize: g * P, patchSize: P, width: D, layers, heads: opts.visionHeads ?? Math.max(1, Math.round(D / 64)), outputDim: E, ...stem },
      numTokens: T, deepLayers: deep, spectralGrid,
      ...(opts.spectralBlocks !== undefined && { spectralBlocks: opts.spectralBlocks }),
      ...(opts.clsQuirk !== undefined && { clsQuirk: opts.clsQuirk }),
      ...(opts.p1FromResidual !== undefined && { p1FromResidual: opts.p1FromResidual }),
    },
    decoder: {
      embedDim: E, width: Dd, layers: decLayers, ffn, attention,
      hilo: { heads: opts.hiloHeads ?? 8, alpha: opts.hiloAlpha ?? 0.9, windowSize: opts.hiloWindow ?? 3 },
      crossHeads: opts.crossHeads ?? 8,
    },
  };
}

/**
 * Build an SPT-SEG (eval mode) from a state dict under the official names.
 *
 * @example
 * const { model, ignoredKeys } = sptSegFromStateDict((await loadSafetensors(path)).tensors);
 */
export function sptSegFromStateDict(dict: ReadonlyMap<string, Tensor>, opts: SptLoadOptions = {}, source = '<state dict>'): { model: SptSeg; ignoredKeys: string[] } {
  const shapes = new Map([...dict].map(([k, t]) => [k, t.shape] as [string, readonly number[]]));
  const attention = shapes.has('decode_head.decoder_1.layers.0.hlfs.prompt') ? 'hilo' : 'cross';
  const ignoredKeys = [...dict.keys()].filter((k) => isUnused(k, attention));
  const used = new Map([...dict].filter(([k]) => !isUnused(k, attention)));
  const config = inferSptSegConfig(new Map([...used].map(([k, t]) => [k, t.shape])), opts, source);
  const model = skipInit(() => new SptSeg(config));
  try {
    model.loadStateDict(used);
  } catch (err) {
    throw new SptWeightsError(`${source}: ${(err as Error).message}`);
  }
  return { model: model.eval(), ignoredKeys };
}

/**
 * Read a safetensors file of SPT-SEG weights (official names) and build the model.
 *
 * @example
 * const model = await loadSptSeg('spt_voc.safetensors', { hiloHeads: 8 });
 */
export async function loadSptSeg(path: string, opts: SptLoadOptions = {}): Promise<SptSeg> {
  const { loadSafetensors } = await nodeFiles();
  const { tensors, metadata } = await loadSafetensors(path, 'float32');
  // A checkpoint whose heads are not width / 64 (the world's tiny models) says so in its metadata.
  const heads = Number(metadata.vision_heads);
  const hinted = opts.visionHeads === undefined && Number.isInteger(heads) && heads > 0 ? { ...opts, visionHeads: heads } : opts;
  return sptSegFromStateDict(tensors, hinted, path).model;
}
