// The mention rule is part of the wire contract (the UI highlights with the same code).
export { findMentions } from '../protocol/mentions.js';
