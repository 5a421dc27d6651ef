// Which Node.js versions kombo-etl supports, checked before anything else is loaded. Plain
// JavaScript with no dependency and no recent syntax, so that an old Node can still run it and say so.

/** The oldest Node.js that runs kombo-etl and its tests (package.json `engines`). */
export const MINIMUM_NODE = [20, 11];
/** What the Lambdas run, and the version to install. */
export const RECOMMENDED_NODE = 22;

/**
 * The one-line message to print for Node.js `version` (e.g. "18.19.0"), or undefined when it is
 * supported.
 * @param {string} version
 * @returns {string | undefined}
 */
export function nodeVersionProblem(version) {
  const parts = version.replace(/^v/, '').split('.').map(Number);
  const major = parts[0] || 0;
  const minor = parts[1] || 0;
  if (major > MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor >= MINIMUM_NODE[1])) return undefined;
  return (
    'kombo-etl needs Node.js ' + MINIMUM_NODE.join('.') + ' or newer (' + RECOMMENDED_NODE + ' recommended: the Lambdas run on Node.js ' + RECOMMENDED_NODE +
    '); this is Node.js ' + version.replace(/^v/, '') + '. Install Node.js ' + RECOMMENDED_NODE + ' (for example `nvm install ' + RECOMMENDED_NODE + '`) and run it again.'
  );
}
