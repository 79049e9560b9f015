/**
 * Reopen a dataset from its JSON spec (`dataset.spec`): how a loader's worker thread gets the same
 * dataset as the main thread without sharing objects.
 */
import type { DatasetSpec, SegDataset } from './dataset.ts';
import { VOCDataset } from './voc.ts';
import { COCOStuffDataset } from './coco-stuff.ts';
import { FolderDataset } from './folder.ts';

/**
 * The dataset a JSON spec describes (`dataset.spec`): how a loader's worker thread reopens the main thread's dataset.
 *
 * @example
 * const same = openDataset(voc.spec);   // a VOCDataset over the same files
 */
export function openDataset(spec: DatasetSpec): SegDataset {
  switch (spec.kind) {
    case 'voc': return new VOCDataset(spec);
    case 'coco-stuff': return new COCOStuffDataset(spec);
    case 'folder': return new FolderDataset(spec);
  }
}
