/**
 * CLIP's text encoder, after OpenAI `clip/model.py` (CLIP.encode_text) and method.md §5.2.
 *
 * Does: token ids [B, L] -> token_embedding + positional_embedding -> L causal pre-LN blocks ->
 *   ln_final -> the feature at each row's end-of-text token (argmax of the ids, since <|endoftext|>
 *   = 49407 is the largest id) -> @ text_projection -> [B, E] (not normalised).
 *   The parts are plain properties with OpenAI's names. `CLIP` (clip.ts) holds them at its top level,
 *   as OpenAI's checkpoints do; `TextEncoder` holds the same parts alone (the layout of ZegCLIP's
 *   frozen CLIPTextEncoder).
 * Does not: tokenize (tokenizer.ts), or return per-token features.
 *
 * One shortcut, exact: with a causal mask, token t only sees tokens 0..t, so nothing after the last
 * end-of-text token of the batch can change any pooled feature. We cut the sequences there (77 ->
 * typically under 20 tokens for a prompt). Masked scores contribute exp(-inf) = 0 either way, so the
 * result is the same sum over the same terms; the gradients of the cut positions were 0 anyway.
 *
 * Glossary: B batch (sequences), L context length (77), T tokens kept, D width, E output width,
 *   V vocabulary size.
 */
import { causalMask, noGrad, tensor, Tensor } from '../engine/index.ts';
import { Embedding, initNormal, isInitSkipped, LayerNorm, Module, Parameter } from '../engine/nn/index.ts';
import { Transformer } from './blocks.ts';

/** The shape of CLIP's text tower (`CLIP_TEXT_B` is the preset). */
export interface TextConfig {
  /** Positions in the positional table: the longest token sequence (77). */
  contextLength: number;
  /** Rows of token_embedding: CLIP's BPE vocabulary, 49,408 ids including SOT 49406 and EOT 49407. */
  vocabSize: number;
  /** Token width D (512). */
  width: number;
  /** Number of residual attention blocks (12). */
  layers: number;
  /** Attention heads; CLIP's build_model uses width / 64 (8). */
  heads: number;
  /** Width E of the joint image-text space that text_projection maps to (512). */
  outputDim: number;
}

/** The text tower of OpenAI CLIP ViT-B/16 (and ViT-B/32). */
export const CLIP_TEXT_B: TextConfig = { contextLength: 77, vocabSize: 49408, width: 512, layers: 12, heads: 8, outputDim: 512 };

/** The text tower's parameters, under OpenAI's (top-level) checkpoint names. */
export interface TextParts {
  token_embedding: Embedding; // weight [V, D]
  positional_embedding: Parameter; // [L, D]
  transformer: Transformer;
  ln_final: LayerNorm;
  text_projection: Parameter; // [D, E], used as x @ text_projection
}

/**
 * Fresh parameters with CLIP's init (token N(0, 0.02), positions N(0, 0.01), projection N(0, D^-½)).
 *
 * @example
 * const parts = createTextParts(CLIP_TEXT_B);   // token_embedding, transformer, ln_final, ...
 */
export function createTextParts(config: TextConfig): TextParts {
  const { vocabSize, contextLength, width, layers, heads, outputDim } = config;
  const token_embedding = new Embedding(vocabSize, width);
  // N(0, 1) -> N(0, 0.02); not under skipInit, where the product of 25 M zeros would cost ~0.4 s and,
  // on wasm, grow its memory by 200 MB for good (issue 16)
  if (!isInitSkipped()) noGrad(() => token_embedding.weight.assign(token_embedding.weight.mul(0.02)));
  return {
    token_embedding,
    positional_embedding: new Parameter(initNormal([contextLength, width], 0, 0.01)),
    transformer: new Transformer(width, layers, heads),
    ln_final: new LayerNorm(width),
    text_projection: new Parameter(initNormal([width, outputDim], 0, width ** -0.5)),
  };
}

/** Token ids as rows of numbers, checked: equal lengths, at most `contextLength`, ids in the vocabulary. */
export function tokenRows(tokens: number[][] | Tensor, config: TextConfig): number[][] {
  let rows: number[][];
  if (tokens instanceof Tensor) {
    if (tokens.ndim !== 2) throw new Error(`encodeText: token tensor must be [B, L], got [${tokens.shape}]`);
    const flat = tokens.toArray();
    const L = tokens.shape[1];
    rows = Array.from({ length: tokens.shape[0] }, (_, b) => flat.slice(b * L, (b + 1) * L));
  } else {
    rows = tokens;
  }
  if (rows.length === 0) throw new Error('encodeText: no token sequences given');
  const L = rows[0].length;
  if (L < 1 || L > config.contextLength || rows.some((r) => r.length !== L)) {
    throw new Error(`encodeText: every sequence needs the same length, between 1 and ${config.contextLength} ` +
      `(got ${[...new Set(rows.map((r) => r.length))].join(', ')})`);
  }
  for (const [b, r] of rows.entries()) {
    const bad = r.find((id) => !Number.isInteger(id) || id < 0 || id >= config.vocabSize);
    if (bad !== undefined) throw new Error(`encodeText: sequence ${b} holds id ${bad}, outside 0..${config.vocabSize - 1}`);
  }
  return rows;
}

/** Index of the first largest id in a row: the end-of-text token (torch.argmax semantics). */
function argmaxIndex(row: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/**
 * CLIP.encode_text: token ids [B, L] -> text features [B, E].
 *
 * @example
 * encodeTokens(clip, clip.config.text, tokenize('a photo of a cat'));   // [1, E]
 */
export function encodeTokens(parts: TextParts, config: TextConfig, tokens: number[][] | Tensor): Tensor {
  const rows = tokenRows(tokens, config);
  const B = rows.length;
  const eot = rows.map(argmaxIndex);
  const T = Math.max(...eot) + 1; // keep tokens 0..T-1 (see the header: exact under the causal mask)
  const pos = parts.positional_embedding.slice(0, 0, T); // [T, D]
  // On the weights' backend, not the active one: the model may live on another device.
  const ids = tensor(rows.flatMap((r) => r.slice(0, T)), [B, T], { dtype: 'int32', like: pos }); // [B, T]
  let x = parts.token_embedding.forward(ids).add(pos); // [B, T, D]
  x = parts.transformer.forward(x, causalMask(T, x)); // [B, T, D]
  const D = x.shape[2];
  const pick = tensor(eot.map((t, b) => b * T + t), [B], { dtype: 'int32', like: x }); // flat row of each EOT
  const pooled = x.reshape([B * T, D]).indexSelect(0, pick); // [B, D]
  // ln_final is per token, so normalising only the pooled rows equals OpenAI's ln_final-then-pick.
  return parts.ln_final.forward(pooled).matmul(parts.text_projection); // [B, E]
}

/**
 * The text tower on its own (ZegCLIP's CLIPTextEncoder layout: the same keys as CLIP's top level).
 *
 * @example
 * const text = new TextEncoder(CLIP_TEXT_B);
 * text.forward(tokenize(['a photo of a dog'])).shape;   // [1, 512]
 */
export class TextEncoder extends Module implements TextParts {
  token_embedding: Embedding;
  positional_embedding: Parameter;
  transformer: Transformer;
  ln_final: LayerNorm;
  text_projection: Parameter;

  constructor(readonly config: TextConfig) {
    super();
    const p = createTextParts(config);
    this.token_embedding = p.token_embedding;
    this.positional_embedding = p.positional_embedding;
    this.transformer = p.transformer;
    this.ln_final = p.ln_final;
    this.text_projection = p.text_projection;
  }

  /** token ids [B, L] -> [B, E]. */
  forward(tokens: number[][] | Tensor): Tensor {
    return encodeTokens(this, this.config, tokens);
  }
}
