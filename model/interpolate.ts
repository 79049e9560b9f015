/**
 * Compatibility re-export: bilinear resizing moved to engine/functional/interpolate.ts, where a loss in
 * train/ and a module in model/ can both reach it. New code imports it from engine/index.ts.
 */
export { bilinearMatrix, bilinearWeights, resize2d, interpolate } from '../engine/functional/interpolate.ts';
