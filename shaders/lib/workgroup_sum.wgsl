// Sum of one value per invocation over a 64-invocation workgroup: a tree over workgroup memory,
// 6 levels. Every invocation of the workgroup must call it (it has barriers) and all get the total.
// Rounding: the tree adds ≲ 6·u relative on top of what the values carry.

var<workgroup> wgPartial: array<f32, 64>;

fn workgroupSum(lid: u32, value: f32) -> f32 {
  wgPartial[lid] = value;
  workgroupBarrier();
  for (var stride = 32u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      wgPartial[lid] = wgPartial[lid] + wgPartial[lid + stride];
    }
    workgroupBarrier();
  }
  let total = wgPartial[0];
  workgroupBarrier();
  return total;
}
