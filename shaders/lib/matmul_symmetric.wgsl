// Tile order of the symmetric products (gram_symmetric_* in shaders/matmul/): C = α·op(A)·op(B) + β·C
// with a symmetric result, computed only on the tiles on or above the diagonal and mirrored.

// Tile (row, column) of the q-th tile of the upper triangle (diagonal included) of a T×T tiling,
// counted row by row: row 0 has T tiles, row 1 has T − 1, … The loop runs at most T times.
fn upperTriangleTile(index: u32, tilesPerSide: u32) -> vec2<u32> {
  var q = index;
  var tr = 0u;
  var rowLength = tilesPerSide;
  while (q >= rowLength) {
    q = q - rowLength;
    tr = tr + 1u;
    rowLength = rowLength - 1u;
  }
  return vec2<u32>(tr, tr + q);
}
