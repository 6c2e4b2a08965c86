'use strict';
/**
 * Load the function's handler from its handler setting (`file.export`, `dir/file.export`,
 * `file.nested.export`) as AWS's Node.js runtime does:
 *
 * - a file without extension, or `.js`, is loaded with require() unless the nearest
 *   package.json says `"type": "module"`; then `.js` (as an ES module), `.mjs` (ES
 *   module), `.cjs` (CommonJS), in that order; failing those, Node.js's own resolution
 *   from the task root (a folder with an index.js, a package);
 * - a syntax error is `Runtime.UserCodeSyntaxError`, a module that cannot be found
 *   `Runtime.ImportModuleError`, a missing export `Runtime.HandlerNotFound`, a handler
 *   setting that is not `file.export` `Runtime.MalformedHandlerName`; any other error
 *   while loading is reported as it is.
 */

const fs = require('node:fs');
const path = require('node:path');
const {
  HandlerNotFound,
  ImportModuleError,
  MalformedHandlerName,
  UserCodeSyntaxError,
} = require('./errors.js');

const MODULE_AND_EXPORT = /^([^.]*)\.(.*)$/;

function requireIfExists(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}

async function importIfExists(file) {
  return fs.existsSync(file) ? import(file) : undefined;
}

/** Whether the nearest package.json above `folder` says `"type": "module"`. */
function typeModuleAbove(folder) {
  for (let current = folder; ; current = path.dirname(current)) {
    if (current.endsWith(`${path.sep}node_modules`)) {
      return false;
    }
    const manifest = path.join(current, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        return JSON.parse(fs.readFileSync(manifest, 'utf8'))?.type === 'module';
      } catch (error) {
        console.warn(
          `${manifest} cannot be read, it will be ignored for ES module detection purposes.`,
          error,
        );
        return false;
      }
    }
    if (current === path.dirname(current)) {
      return false;
    }
  }
}

/** Whether `file` (without extension) will be loaded as an ES module. */
function isEsModule(file) {
  if (fs.existsSync(file)) {
    return false;
  }
  if (fs.existsSync(`${file}.js`)) {
    return typeModuleAbove(path.dirname(file));
  }
  return fs.existsSync(`${file}.mjs`);
}

async function loadModule(taskRoot, moduleRoot, moduleName) {
  const file = path.resolve(taskRoot, moduleRoot, moduleName);
  const withoutExtension = requireIfExists(file);
  if (withoutExtension) {
    return withoutExtension;
  }
  const typeModule = fs.existsSync(`${file}.js`) && typeModuleAbove(path.dirname(file));
  if (!typeModule) {
    const commonJs = requireIfExists(`${file}.js`);
    if (commonJs) {
      return commonJs;
    }
  }
  const loaded =
    (typeModule && (await importIfExists(`${file}.js`))) ||
    (await importIfExists(`${file}.mjs`)) ||
    requireIfExists(`${file}.cjs`);
  if (loaded) {
    return loaded;
  }
  return require(require.resolve(moduleName, { paths: [taskRoot, moduleRoot] }));
}

function splitHandler(handler) {
  if (handler.includes('..')) {
    throw new MalformedHandlerName(
      `'${handler}' is not a valid handler name. Use absolute paths when specifying root ` +
        'directories in handler names.',
    );
  }
  const base = path.basename(handler);
  const moduleRoot = handler.substring(0, handler.indexOf(base));
  const match = base.match(MODULE_AND_EXPORT);
  if (!match) {
    throw new MalformedHandlerName('Bad handler');
  }
  return { moduleRoot, moduleName: match[1], exportPath: match[2] };
}

/** The handler function named by `handler` in the code under `taskRoot`. */
async function loadHandler(taskRoot, handler) {
  const { moduleRoot, moduleName, exportPath } = splitHandler(handler);
  let loaded;
  try {
    loaded = await loadModule(taskRoot, moduleRoot, moduleName);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new UserCodeSyntaxError(error);
    }
    if (error?.code === 'MODULE_NOT_FOUND') {
      throw new ImportModuleError(error);
    }
    throw error;
  }
  const found = exportPath.split('.').reduce((value, key) => value && value[key], loaded);
  if (!found) {
    throw new HandlerNotFound(`${handler} is undefined or not exported`);
  }
  if (typeof found !== 'function') {
    throw new HandlerNotFound(`${handler} is not a function`);
  }
  return found;
}

/** Where the handler's module file would be, for deciding before it is loaded. */
function handlerFile(taskRoot, handler) {
  const { moduleRoot, moduleName } = splitHandler(handler);
  return path.resolve(taskRoot, moduleRoot, moduleName);
}

module.exports = { handlerFile, isEsModule, loadHandler, splitHandler };
