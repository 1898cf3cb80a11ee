/**
 * Cascade: the premise graph, compounded confidence K, anchors and the weakest link (SPEC §4);
 * what to reproduce next is the gate's choice (src/domain/gate/decision.ts). Pure: graphology in, plain data out.
 */
export {
  addEdgesChecked,
  affectedBy,
  buildPremiseGraph,
  cycleInEdges,
  descendants,
  findCycle,
  mainChain,
  type CascadeNode,
  type PremiseEdge,
  type PremiseGraph,
} from './graph.js';
export { ancestorSet, compound, type Compounded } from './compound.js';
export { recomputeCompounded, type KnownCascade } from './batch.js';
