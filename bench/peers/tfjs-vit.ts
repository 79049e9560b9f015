/**
 * tfjs-backend-wasm peer for bench/model/vit.bench.ts: the ViT-B/16 image tower forward at 224
 * written with tfjs-core ops (random weights). Returns null (with the reason printed) when tfjs
 * cannot load. Forward only: tfjs-core's gradient registrations are ES modules with directory
 * imports that Node's ESM loader refuses, so tf.grads is not available from Node here.
 */
import type * as TF from '@tensorflow/tfjs-core';

export interface TfjsPeer {
  label: string;
  vitForward(): void;
}

export async function tfjsVitPeer(): Promise<TfjsPeer | null> {
  let tf: typeof TF;
  let threads = 1;
  try {
    tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    await tf.ready();
    threads = wasm.getThreadsCount();
  } catch (err) {
    console.warn(`tfjs-backend-wasm skipped: ${(err as Error).message}`);
    return null;
  }
  const D = 768, H = 12, d = D / H, T = 197;
  const w = (shape: number[], std = 0.02) => tf.randomNormal(shape, 0, std);
  interface Block { ln1g: TF.Tensor; ln1b: TF.Tensor; qkv: TF.Tensor; qkvb: TF.Tensor; out: TF.Tensor; outb: TF.Tensor;
    ln2g: TF.Tensor; ln2b: TF.Tensor; fc: TF.Tensor; fcb: TF.Tensor; proj: TF.Tensor; projb: TF.Tensor }
  const makeBlock = (): Block => ({
    ln1g: tf.ones([D]), ln1b: tf.zeros([D]), qkv: w([D, 3 * D]), qkvb: tf.zeros([3 * D]), out: w([D, D]), outb: tf.zeros([D]),
    ln2g: tf.ones([D]), ln2b: tf.zeros([D]), fc: w([D, 4 * D]), fcb: tf.zeros([4 * D]), proj: w([4 * D, D]), projb: tf.zeros([D]),
  });
  const layerNorm = (x: TF.Tensor2D, g: TF.Tensor, b: TF.Tensor): TF.Tensor2D => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b) as TF.Tensor2D;
  };
  const block = (x: TF.Tensor2D, p: Block): TF.Tensor2D => {
    const qkv = tf.add(tf.matMul(layerNorm(x, p.ln1g, p.ln1b), p.qkv), p.qkvb); // [T, 3D]
    const heads = tf.transpose(tf.reshape(qkv, [T, 3, H, d]), [1, 2, 0, 3]); // [3, H, T, d]
    const [q, k, v] = tf.unstack(heads) as TF.Tensor3D[];
    const att = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d))); // [H, T, T]
    const o = tf.reshape(tf.transpose(tf.matMul(att, v), [1, 0, 2]), [T, D]);
    const x1 = tf.add(x, tf.add(tf.matMul(o, p.out), p.outb)) as TF.Tensor2D;
    const hdn = tf.add(tf.matMul(layerNorm(x1, p.ln2g, p.ln2b), p.fc), p.fcb);
    const act = tf.mul(hdn, tf.sigmoid(tf.mul(hdn, 1.702)));
    return tf.add(x1, tf.add(tf.matMul(act, p.proj), p.projb)) as TF.Tensor2D;
  };
  const blocks = Array.from({ length: 12 }, makeBlock);
  const conv = w([3 * 16 * 16, D]), cls = w([1, D]), pos = w([T, D]), proj = w([D, 512]);
  const image = tf.randomNormal([3, 224, 224]);
  const b0 = blocks[0];
  return {
    label: `tfjs-wasm (${threads} thr)`,
    vitForward: () => {
      const y = tf.tidy(() => {
        const patches = tf.reshape(tf.transpose(tf.reshape(image, [3, 14, 16, 14, 16]), [1, 3, 0, 2, 4]), [196, 768]);
        let x = tf.add(tf.concat([cls, tf.matMul(patches, conv)], 0), pos) as TF.Tensor2D;
        x = layerNorm(x, b0.ln1g, b0.ln1b);
        for (const p of blocks) x = block(x, p);
        return tf.matMul(layerNorm(tf.slice(x, [0, 0], [1, D]), b0.ln1g, b0.ln1b), proj);
      });
      y.dataSync();
      y.dispose();
    },
  };
}
