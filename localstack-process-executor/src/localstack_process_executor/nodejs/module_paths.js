'use strict';
/**
 * Where `require()` looks for packages, as on AWS: the function's own node_modules
 * folders up to its scope (the folder above its task root), then NODE_PATH (the AWS SDK,
 * the task root). On AWS nothing above /var/task holds packages; here the folders above
 * the scope are a learner's own, and must not lend a function what AWS would not have.
 */

const Module = require('node:module');
const path = require('node:path');

let confinedTo = null;
const nodeModulePaths = Module._nodeModulePaths;

/** Keep lookups from modules under `scope` inside it; read NODE_PATH afresh. */
function confineModulePaths(scope) {
  confinedTo = scope ? path.resolve(scope) : null;
  Module._initPaths(); // NODE_PATH is read at start-up otherwise
}

Module._nodeModulePaths = function confinedNodeModulePaths(from) {
  const paths = nodeModulePaths.call(this, from);
  if (confinedTo === null) {
    return paths;
  }
  const inside = confinedTo + path.sep;
  const folder = path.resolve(from);
  if (folder !== confinedTo && !folder.startsWith(inside)) {
    return paths;
  }
  return paths.filter((candidate) => candidate.startsWith(inside));
};

module.exports = { confineModulePaths };
