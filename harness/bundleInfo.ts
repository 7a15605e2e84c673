/**
 * Facts the GPU bundle (harness/gpuBundle.ts) carries instead of a source tree: the package
 * version and the digest of the kernel sources (the variant cache's key). Undefined when the CLI
 * runs from the repository, where those are read from disk.
 */
declare const __MUONLAB_BUNDLE__: { version: string; kernelDigest: string; builtAt: string } | undefined;

export const BUNDLE_INFO: { version: string; kernelDigest: string; builtAt: string } | undefined =
  typeof __MUONLAB_BUNDLE__ === 'undefined' ? undefined : __MUONLAB_BUNDLE__;
