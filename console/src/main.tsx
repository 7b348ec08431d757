import { render } from "preact";
import { session } from "./api.ts";
import { App } from "./app.tsx";
import "./console.css";

// A portal link's token leaves the address bar before anything else runs.
session.adoptLinkToken();
const root = document.getElementById("app");
if (root) render(<App />, root);
