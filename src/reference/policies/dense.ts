// Dense: every neuron, every token. The baseline every method is compared with.

import type { FfnPolicy } from './types.js';

export function densePolicy(): FfnPolicy {
  return {
    method: 'dense',
    observePrompt: () => {},
    endPrompt: () => {},
    plan: () => ({ kind: 'dense' }),
    selectForToken: () => null,
    masks: () => [],
  };
}
