export * from './frame.js';
export * from './errors.js';
export * from './events.js';
export * from './topics.js';
export * from './validate.js';
export * from './mentions.js';
export * from './room-name.js';
export * from './search-terms.js';
