// Reference vectors from transformers.js (its own JS tokenizer, pooling and normalisation).
import { env, pipeline } from '@huggingface/transformers';
env.allowRemoteModels = false;
env.localModelPath = new URL('./models/', import.meta.url).pathname;
const texts = [
  "The cat sits on the mat.",
  "A kitten is resting on a rug.",
  "Quarterly revenue grew by twelve percent.",
  "Ragline keeps a retrieval store in PostgreSQL fresh.",
  "Café naïve façade: résumé of a Straße in İstanbul!",
  "中文分词测试 and emoji 😀 mixed text",
  "",
];
const out = { producedBy: "@huggingface/transformers 4.3.1 (node " + process.version + "), feature-extraction pipeline", models: {} };
for (const [name, dir, pooling, dtype] of [
  ["all-MiniLM-L6-v2", "all-minilm-l6-v2", "mean", "fp32"],
  ["all-MiniLM-L6-v2-q", "all-minilm-l6-v2", "mean", "q8"],
  ["bge-small-en-v1.5", "bge-small-en-v1.5", "cls", "fp32"],
]) {
  const extractor = await pipeline('feature-extraction', dir, { dtype });
  const vectors = [];
  for (const t of texts) {
    const r = await extractor(t, { pooling, normalize: true });
    vectors.push(Array.from(r.data).map(x => Number(x.toPrecision(7))));
  }
  out.models[name] = { pooling, texts, vectors };
}
console.log(JSON.stringify(out));
