// Progress events and their renderers (tty live view, plain lines, json lines, quiet).
export * from './events.js';
export { formatSeconds } from './format.js';
export { JsonRenderer, QuietRenderer } from './json.js';
export { PlainRenderer, summaryLines } from './plain.js';
export { createRenderer, type ProgressMode } from './select.js';
export { TtyRenderer } from './tty.js';
