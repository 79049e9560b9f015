/**
 * The world checkpoints for the browser tests, with a model card: assets/world-sptseg.safetensors as
 * it is when it carries one, else a copy in `dir` with `worldCard` (offset 0, the tuned offset of the
 * card-less checkpoint; background below 0.2, the page's default), so the page, the command line and
 * the API all read their settings from the same card whichever asset is committed.
 */
import { join } from 'node:path';
import { loadSafetensors, saveSafetensors } from '../../engine/io/files.ts';
import { cardMetadata, readCard } from '../../model/model-card.ts';
import { loadSptSeg } from '../../model/spt-weights.ts';
import { worldCard } from '../../train/model-cards.ts';

export const WORLD_CLIP = 'assets/world-clip.safetensors';
export const WORLD_WEIGHTS = 'assets/world-sptseg.safetensors';

/** The path of world SPT-SEG weights with a card: the asset, or a carded copy written into `dir`. */
export async function cardedWorldWeights(dir: string): Promise<{ weights: string; copied: boolean }> {
  const { metadata } = await loadSafetensors(WORLD_WEIGHTS, 'float32');
  if (readCard(metadata, WORLD_WEIGHTS)) return { weights: WORLD_WEIGHTS, copied: false };
  const model = await loadSptSeg(WORLD_WEIGHTS); // the legacy vision_heads metadata gives the heads
  const weights = join(dir, 'world-sptseg.carded.safetensors');
  await saveSafetensors(weights, model.stateDict(), cardMetadata(worldCard(model, { offset: 0 })));
  return { weights, copied: true };
}
