// 1-D jobs of 64-invocation workgroups laid out over a 2-D grid, because one dimension holds at
// most 65535 workgroups (src/kernels/philox/philox.ts `linearWorkgroups` lays the grid out).

// The invocation index of a 1-D job.
fn linear_invocation(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * 64u;
}
