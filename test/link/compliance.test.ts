// Every link pair we have passes the one compliance suite (compliance.ts).
import { memoryPair } from '../../src/link/index.js';
import { linkCompliance } from './compliance.js';

linkCompliance('memoryPair', (config) => memoryPair(config), { instantaneous: true });
