// Importing this module registers every backend that ships with the kit.
// Each backend folder registers itself in its own index.ts (registerBackend).
import './registry.js';
