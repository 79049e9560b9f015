/** Modules: `import { Module, Linear, LayerNorm } from './engine/nn/index.ts'`. */
export { Module, Parameter, type LoadOptions, type LoadResult } from './module.ts';
export { Linear, LayerNorm, Embedding, Dropout, ModuleList, Sequential, type Layer } from './layers.ts';
export { skipInit, isInitSkipped, initUniform, initNormal } from './init.ts';
