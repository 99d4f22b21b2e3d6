/** The tool version written into manifests and run records. */
export const TOOL_VERSION = '0.1.0';
export const TOOL_NAME = 'recreplay';
