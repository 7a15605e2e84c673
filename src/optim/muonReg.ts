/**
 * muon-reg ([C], docs/math.md §2): D = G·(GᵀG + λ²I)^{−1/2}, i.e. σ → σ/√(σ² + λ²), on the GPU by a
 * coupled Newton–Schulz inverse square root of the short side's Gram matrix (shaders/optimizers/muon_reg.wgsl
 * explains the iteration and its per-run stop rule), batched over R runs with per-run λ.
 * Per step: Gram (1 matmul), init (1), per iteration 3 matmuls + 1 check (+ 1 copy of 1.5·I),
 * finish (1), D (1 matmul), update (check + apply). Capped at `maxIterations` iterations.
 * CPU twin: the SVD form (regularizedPolar in src/cpu/polar.ts).
 */
import type { CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { defineKernel } from '../gpu/registry';
import { createTensor, readTensor, uploadTensor, type Tensor } from '../gpu/tensor';
import { F32_UNIT_ROUNDOFF } from '../cpu/compare';
import { matmul } from '../kernels/matmul/matmul';
import { copyTensor } from '../kernels/newtonSchulz/newtonSchulz';
import { checkedUpdate, checkOperands, stateTensor, updateShape, type GpuOptimizer, type MatrixShape, type StepOperands } from './common';

export const MUON_REG_INIT_KERNEL = defineKernel({ shader: 'optimizers/muon_reg.wgsl', entryPoint: 'muon_reg_init' });
export const MUON_REG_CHECK_KERNEL = defineKernel({ shader: 'optimizers/muon_reg.wgsl', entryPoint: 'muon_reg_check' });
export const MUON_REG_FINISH_KERNEL = defineKernel({ shader: 'optimizers/muon_reg.wgsl', entryPoint: 'muon_reg_finish' });
export const DIRECTION_UPDATE_KERNEL = defineKernel({ shader: 'optimizers/direction.wgsl', entryPoint: 'direction_update' });

export interface MuonRegReport {
  /** Iterations each run took before its stop rule fired (≤ the cap). */
  iterations: number[];
  /** The residual ‖I − Z·Y‖_F it ended with. */
  residual: number[];
}

export interface GpuMuonReg extends GpuOptimizer {
  report(): Promise<MuonRegReport>;
}

/** Residual target: a few f32 roundoffs per entry of an s×s identity (‖·‖_F over s² entries). */
export function muonRegTolerance(s: number): number {
  return 4 * s * F32_UNIT_ROUNDOFF;
}

export function createMuonReg(gpu: Gpu, shape: MatrixShape, maxIterations = 60): GpuMuonReg {
  const { batch, rows, cols } = shape;
  const s = Math.min(rows, cols);
  const tall = rows > cols;
  const square = (label: string) => createTensor(gpu, { batch, rows: s, cols: s, label: `muon-reg ${label}` });
  const y: [Tensor, Tensor] = [square('Y0'), square('Y1')];
  const z: [Tensor, Tensor] = [square('Z0'), square('Z1')];
  const t = square('T');
  const identity = Array.from({ length: batch }, () => Array.from({ length: s * s }, (_, i) => (i % (s + 1) === 0 ? 1.5 : 0))).flat();
  const threeHalves = uploadTensor(gpu, { batch, rows: s, cols: s, label: 'muon-reg 1.5·I' }, identity);
  const state = gpu.device.createBuffer({
    label: 'muon-reg state',
    size: Math.max(16, batch * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const direction = stateTensor(gpu, shape, 'muon-reg direction');
  const regShape = { size: s, batch, tolerance: muonRegTolerance(s) };
  return {
    name: 'muon-reg',
    shape,
    state: {},
    async step(rec: CommandRecorder, op: StepOperands) {
      checkOperands('muon-reg', shape, op);
      await matmul(rec, { a: op.g, b: op.g, c: y[0], transA: tall, transB: !tall }, { label: 'muon-reg: Gram' });
      await rec.dispatch({
        kernel: MUON_REG_INIT_KERNEL,
        buffers: { runs: op.params.buffer, y: y[0].buffer, z: z[0].buffer, state },
        uniforms: { shape: regShape },
        workgroups: [batch, 1, 1],
      });
      let cur = 0;
      for (let k = 0; k < maxIterations; k++) {
        copyTensor(rec, threeHalves, t);
        await matmul(rec, { a: z[cur], b: y[cur], c: t, alpha: -0.5, beta: 1 }, { label: 'muon-reg: T = 1.5I − 0.5ZY' });
        await rec.dispatch({
          kernel: MUON_REG_CHECK_KERNEL,
          buffers: { t: t.buffer, checkState: state },
          uniforms: { checkShape: regShape },
          workgroups: [batch, 1, 1],
        });
        await matmul(rec, { a: y[cur], b: t, c: y[1 - cur] }, { label: 'muon-reg: Y·T' });
        await matmul(rec, { a: t, b: z[cur], c: z[1 - cur] }, { label: 'muon-reg: T·Z' });
        cur = 1 - cur;
      }
      await rec.dispatch({
        kernel: MUON_REG_FINISH_KERNEL,
        buffers: { zFinal: z[cur].buffer, finalState: state },
        uniforms: { finalShape: regShape },
        workgroups: [batch, 1, 1],
      });
      await matmul(rec, tall ? { a: op.g, b: z[cur], c: direction } : { a: z[cur], b: op.g, c: direction }, { label: 'muon-reg: D' });
      await checkedUpdate(
        rec,
        DIRECTION_UPDATE_KERNEL,
        shape,
        { runs: op.params.buffer, w: op.w.buffer, d: direction.buffer },
        { shape: { ...updateShape(shape, op.w, direction) } },
      );
    },
    async report() {
      const data = await readTensor(gpu, {
        buffer: state,
        label: 'muon-reg state',
        batch: 1,
        rows: batch,
        cols: 4,
        batchStride: 0,
        offset: 0,
        dtype: 'f32',
      });
      return {
        iterations: Array.from({ length: batch }, (_, r) => data[4 * r + 3]),
        residual: Array.from({ length: batch }, (_, r) => data[4 * r + 1]),
      };
    },
    destroy: () => {
      for (const x of [...y, ...z, t, threeHalves, direction]) x.buffer.destroy();
      state.destroy();
    },
  };
}
