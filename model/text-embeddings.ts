/**
 * Class-name text embeddings for SPT-SEG: CLIP's text encoder over prompt templates, and a file cache.
 *
 *   const text = classTextEmbeddings(clip, VOC_CLASSES, VOC_TEMPLATES);   // [C, E], unit rows
 *   await saveTextEmbeddings('voc.safetensors', text, VOC_CLASSES);
 *   const again = await loadTextEmbeddings('voc.safetensors', ['cat', 'dog']); // picked by name
 *
 * ZegCLIP/SPT embed each class with every template, L2-normalise, average over templates and
 * normalise again (VOC: the single template 'a photo of a {}'; COCO-Stuff: the 15-prompt ensemble,
 * method.md §6.3); the text tower is frozen, so the embeddings are constants computed once.
 * The cache is a safetensors file with `text_embeddings` [C, E] and the class names as JSON in its
 * metadata `classes`. Rows are returned as stored (never renormalised, method.md §9).
 * Does not: run without a CLIP (the class names need its text tower once).
 *
 * Glossary: C classes, E embedding width.
 */
import { cat, noGrad, type Tensor } from '../engine/index.ts';
import { VOC_TEMPLATES, type CLIP } from './clip.ts';

/**
 * clip.encodeTextPrompts without gradients: [C, E] unit rows.
 *
 * @example
 * const text = classTextEmbeddings(clip, VOC_CLASSES);   // [20, 512], L2-normalised
 */
export function classTextEmbeddings(clip: CLIP, classNames: readonly string[], templates: readonly string[] = VOC_TEMPLATES): Tensor {
  return noGrad(() => clip.encodeTextPrompts(classNames, templates)); // [C, E]
}

/**
 * Cache class embeddings [C, E] (e.g. clip.encodeTextPrompts(names, VOC_TEMPLATES)) with their names.
 *
 * @example
 * await saveTextEmbeddings('voc-text.safetensors', text, VOC_CLASSES);
 */
export async function saveTextEmbeddings(path: string, embeddings: Tensor, classes: readonly string[]): Promise<void> {
  if (embeddings.ndim !== 2 || embeddings.shape[0] !== classes.length) {
    throw new Error(`saveTextEmbeddings: expected [${classes.length}, E] for ${classes.length} classes, got [${embeddings.shape.join(', ')}]`);
  }
  const { saveSafetensors } = await nodeFiles();
  await saveSafetensors(path, new Map([['text_embeddings', embeddings]]), { classes: JSON.stringify(classes) });
}

/**
 * The rows of a cached embedding file for `classes`: picked by name through its `classes` metadata,
 * or, in a file without names, all rows in order (their count must match). Rows are used as stored.
 *
 * @example
 * const text = await loadTextEmbeddings('voc-text.safetensors', VOC_CLASSES);
 */
export async function loadTextEmbeddings(path: string, classes: readonly string[]): Promise<Tensor> {
  const { loadSafetensors } = await nodeFiles();
  const { tensors, metadata } = await loadSafetensors(path, 'float32');
  const all = tensors.get('text_embeddings');
  if (!all || all.ndim !== 2) throw new Error(`${path}: expected a tensor text_embeddings [C, E], got ${all ? `[${all.shape.join(', ')}]` : 'none'}`);
  const stored = metadata.classes ? (JSON.parse(metadata.classes) as unknown) : null;
  if (stored === null) {
    if (all.shape[0] !== classes.length) throw new Error(`${path}: ${all.shape[0]} embeddings for ${classes.length} classes (and no classes metadata to pick by name)`);
    return all;
  }
  if (!Array.isArray(stored) || stored.length !== all.shape[0]) throw new Error(`${path}: metadata classes must list ${all.shape[0]} names`);
  const rows = classes.map((c) => {
    const i = stored.indexOf(c);
    if (i < 0) throw new Error(`${path}: no embedding for class "${c}" (it has: ${stored.join(', ')})`);
    return all.slice(0, i, i + 1); // [1, E]
  });
  return cat(rows, 0); // [C, E]
}

/** engine/io/files.ts, loaded on first use through a variable specifier so that browser bundlers leave it alone. */
async function nodeFiles(): Promise<typeof import('../engine/io/files.ts')> {
  const ioModule = '../engine/io/files.ts';
  return import(ioModule) as Promise<typeof import('../engine/io/files.ts')>;
}
