/** esbuild gathers imported style sheets into the build's one .css file. */
declare module "*.css";
