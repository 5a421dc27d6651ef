/** The oldest Node.js that runs kombo-etl and its tests, as [major, minor]. */
export declare const MINIMUM_NODE: readonly [number, number];
/** What the Lambdas run, and the version to install. */
export declare const RECOMMENDED_NODE: number;
/** The one-line message to print for Node.js `version` (e.g. "18.19.0"), or undefined when it is supported. */
export declare function nodeVersionProblem(version: string): string | undefined;
