// Shapes of the six model families the TDA paper evaluates (§5, Tables 3–4), as data.
// Source of every number: each model's published configuration file (config.json:
// hidden_size, intermediate_size, num_attention_heads, num_key_value_heads, head_dim,
// num_hidden_layers, ffn kind) as released with the weights, which agree with the model
// papers: OPT — Zhang et al. 2022a, Table 1; Llama 2 — Touvron et al. 2023b; Llama 3 8B —
// its model card; Mistral 7B — Jiang et al. 2023, Table 1; Gemma 2B — Team et al. 2024,
// Table 1 (its "feedforward hidden dims" 32768 counts gate and up together: 2 × 16384).

export interface PublishedConfig {
  name: string;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** gated: gate, up and down matrices (SwiGLU/GeGLU); plain: fc1 and fc2 (OPT). */
  ffn: 'gated' | 'plain';
}

export const PUBLISHED_CONFIGS: PublishedConfig[] = [
  { name: 'OPT-350M', hiddenSize: 1024, intermediateSize: 4096, layers: 24, heads: 16, kvHeads: 16, headDim: 64, ffn: 'plain' },
  { name: 'OPT-2.7B', hiddenSize: 2560, intermediateSize: 10240, layers: 32, heads: 32, kvHeads: 32, headDim: 80, ffn: 'plain' },
  { name: 'Gemma-2B', hiddenSize: 2048, intermediateSize: 16384, layers: 18, heads: 8, kvHeads: 1, headDim: 256, ffn: 'gated' },
  { name: 'LLaMA-2-7B', hiddenSize: 4096, intermediateSize: 11008, layers: 32, heads: 32, kvHeads: 32, headDim: 128, ffn: 'gated' },
  { name: 'LLaMA-3-8B', hiddenSize: 4096, intermediateSize: 14336, layers: 32, heads: 32, kvHeads: 8, headDim: 128, ffn: 'gated' },
  { name: 'Mistral-7B', hiddenSize: 4096, intermediateSize: 14336, layers: 32, heads: 32, kvHeads: 8, headDim: 128, ffn: 'gated' },
];

/** Weight-matrix parameters of one layer's attention block: W_q, W_k, W_v, W_o (biases and norms excluded). */
export function attentionParams(c: PublishedConfig): number {
  const q = c.heads * c.headDim;
  const kv = c.kvHeads * c.headDim;
  return c.hiddenSize * (q + 2 * kv) + q * c.hiddenSize;
}

/** Weight-matrix parameters of one layer's MLP block: 3 matrices when gated, 2 otherwise. */
export function mlpParams(c: PublishedConfig): number {
  return (c.ffn === 'gated' ? 3 : 2) * c.hiddenSize * c.intermediateSize;
}
