/** The messages between the page and its Web Worker (plain JSON both ways). */
import type { Cell, ScenarioSource, SearchRequest } from '../session.js';

export type Request =
  | { type: 'check'; id: number; src: ScenarioSource; scheme: string; search: SearchRequest }
  | { type: 'every'; id: number; src: ScenarioSource; search: SearchRequest }
  | { type: 'replay'; id: number; src: ScenarioSource; scheme: string; schedule: string }
  | { type: 'html'; id: number; scheme: string }
  | { type: 'bench'; id: number; src: ScenarioSource; scheme: string; schedules: number; seed: number };

export type Reply =
  | { type: 'progress'; id: number; scheme: string; schedules: number }
  | { type: 'cell'; id: number; cell: Cell }
  | { type: 'html'; id: number; scheme: string; html: string }
  | { type: 'done'; id: number }
  | { type: 'bench'; id: number; schedules: number; ms: number }
  | { type: 'error'; id: number; message: string };
