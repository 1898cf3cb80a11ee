/**
 * Cascade: the premise graph, compounded confidence K, anchors, weakest link and
 * re-anchoring candidates (SPEC §4, §6). Pure: graphology in, plain data out.
 */
export {
  addEdgesChecked,
  affectedBy,
  buildPremiseGraph,
  descendants,
  findCycle,
  mainChain,
  type CascadeNode,
  type PremiseEdge,
  type PremiseGraph,
} from './graph.js';
export { ancestorSet, compound, type Compounded } from './compound.js';
export { recomputeCompounded, type KnownCascade } from './batch.js';
export { reanchorCandidate, reanchorCandidateFor } from './reanchor.js';
