// Runs an ONNX file in ONNX Runtime (the npm package onnxruntime-node, CPU) and writes its outputs
// as raw little-endian files, for tests and benchmarks:
//   node run_onnx.js MODEL INPUT.f32 N,C,H,W OUT_PREFIX [THREADS] [RUNS]
// INPUT.f32 holds N*C*H*W float32; OUT_PREFIX.<output>.bin gets each output (float32 or int64)
// and one JSON line is printed: output shapes, and with RUNS > 0 the seconds of each timed run
// (all graph optimisations, THREADS intra-op threads, after one untimed run).
const fs = require('fs');
const path = require('path');

// Installed globally by ./setup.sh (npm install -g): found there without NODE_PATH too.
function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    const root = require('child_process').execSync('npm root -g').toString().trim();
    return require(path.join(root, 'onnxruntime-node'));
  }
}
const ort = loadOrt();

(async () => {
  const [model, input, dims, prefix, threads = '0', runs = '0'] = process.argv.slice(2);
  const shape = dims.split(',').map(Number);
  const bytes = fs.readFileSync(input);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const options = {graphOptimizationLevel: 'all', executionProviders: ['cpu']};
  if (Number(threads) > 0) {
    options.intraOpNumThreads = Number(threads);
    options.interOpNumThreads = 1;
  }
  const session = await ort.InferenceSession.create(model, options);
  const feeds = {input: new ort.Tensor('float32', data, shape)};
  let results = await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(runs); ++i) {
    const start = process.hrtime.bigint();
    results = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  const shapes = {};
  for (const [name, tensor] of Object.entries(results)) {
    shapes[name] = tensor.dims;
    const array = tensor.data;
    fs.writeFileSync(`${prefix}.${name}.bin`,
                     Buffer.from(array.buffer, array.byteOffset, array.byteLength));
  }
  console.log(JSON.stringify({shapes, times}));
})().catch((e) => {
  console.error('error: ' + String(e.message || e).split('\n')[0]);
  process.exit(1);
});
