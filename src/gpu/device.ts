/**
 * Device acquisition: turns "no WebGPU", "no adapter", device loss and uncaptured errors into
 * errors that say what happened and what to do, and asks the adapter for the limits the kernels
 * need (the defaults are far below what SwiftShader or a real GPU can do: 128 MiB bindings).
 */

/** Why a GPU could not be had. The harness maps these to exit code 2 and advice. */
export type GpuUnavailableReason = 'no-webgpu' | 'no-adapter' | 'device-request-failed';

export class GpuUnavailableError extends Error {
  constructor(
    readonly reason: GpuUnavailableReason,
    message: string,
  ) {
    super(message);
    this.name = 'GpuUnavailableError';
  }
}

/** Everything a kernel call needs to know about the device it runs on. */
export interface Gpu {
  device: GPUDevice;
  adapterInfo: AdapterDescription;
  /** Features that were present on the adapter and enabled on the device. */
  features: string[];
  /** Limits of the device (as requested, so equal to the adapter's for the ones listed below). */
  limits: Record<string, number>;
  hasTimestamps: boolean;
  hasSubgroups: boolean;
  /** Resolves when the device is lost; `lostReason` is set then. */
  lost: Promise<GPUDeviceLostInfo>;
  lostReason?: string;
  /** Uncaptured errors seen so far (validation errors outside an error scope). */
  uncapturedErrors: string[];
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
}

/** Limits requested at the adapter's maximum: big bindings and workgroup memory for tiled kernels. */
const LIMITS_AT_ADAPTER_MAX = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

const OPTIONAL_FEATURES = ['timestamp-query', 'subgroups'] as const;

export interface RequestGpuOptions {
  /**
   * The WebGPU entry point: `navigator.gpu` in a page (the default), or what a host provides — the
   * Node host passes Dawn's (the `webgpu` package). Nothing else in src/ knows which host it is on.
   */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /** Leave out optional features (e.g. to test the no-timestamp path). */
  disableFeatures?: string[];
}

/**
 * Requests an adapter and a device with the limits and optional features muonlab uses.
 *
 * @example
 * const gpu = await requestGpu();
 * console.log(gpu.adapterInfo.architecture, gpu.hasTimestamps);
 */
export async function requestGpu(options: RequestGpuOptions = {}): Promise<Gpu> {
  const entry = options.gpu ?? (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!entry) {
    throw new GpuUnavailableError(
      'no-webgpu',
      'navigator.gpu is missing: this browser has WebGPU disabled or the page is not a secure context ' +
        '(serve it from http://127.0.0.1 or localhost). In Chromium pass --enable-unsafe-webgpu.',
    );
  }
  const adapter = await entry.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new GpuUnavailableError(
      'no-adapter',
      'requestAdapter() returned null: WebGPU is enabled but no adapter is usable. ' +
        'On a machine without a GPU, Chromium needs SwiftShader (Debian/Ubuntu package "chromium" ships it) ' +
        'and --enable-unsafe-webgpu; on Linux with a GPU also try --enable-features=Vulkan.',
    );
  }
  const disabled = new Set(options.disableFeatures ?? []);
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f) && !disabled.has(f)) as GPUFeatureName[];
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS_AT_ADAPTER_MAX) {
    const value = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'muonlab' });
  } catch (err) {
    throw new GpuUnavailableError('device-request-failed', `adapter.requestDevice failed: ${(err as Error).message}`);
  }
  const info = adapter.info;
  const gpu: Gpu = {
    device,
    adapterInfo: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
      subgroupMinSize: (info as { subgroupMinSize?: number }).subgroupMinSize,
      subgroupMaxSize: (info as { subgroupMaxSize?: number }).subgroupMaxSize,
    },
    features: [...device.features].sort(),
    limits: readLimits(device.limits),
    hasTimestamps: device.features.has('timestamp-query'),
    hasSubgroups: device.features.has('subgroups'),
    lost: device.lost,
    uncapturedErrors: [],
  };
  device.lost.then((lostInfo) => {
    gpu.lostReason = `${lostInfo.reason}: ${lostInfo.message}`;
  });
  device.addEventListener('uncapturederror', (event) => {
    const message = (event as GPUUncapturedErrorEvent).error.message;
    gpu.uncapturedErrors.push(message);
    console.error(`[muonlab] uncaptured WebGPU error: ${message}`);
  });
  return gpu;
}

/** Copies the numeric limits out of a GPUSupportedLimits (its fields live on the prototype). */
export function readLimits(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key in limits) {
    const value = (limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') out[key] = value;
  }
  return out;
}

/** Throws if the device was lost, so a run stops with the reason instead of hanging. */
export function assertDeviceAlive(gpu: Gpu, what: string): void {
  if (gpu.lostReason !== undefined) {
    throw new Error(`${what}: the GPU device was lost (${gpu.lostReason}); results so far are kept`);
  }
}
