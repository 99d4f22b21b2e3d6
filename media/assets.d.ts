// Stylesheets are bundled by esbuild into dist/webview/timeline.css; importing one has no value.
declare module '*.css';
