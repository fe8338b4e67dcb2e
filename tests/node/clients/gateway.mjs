// Starts the published gateway on a config and resolves with the URL of its profile 'p' (shared by the adapters).
import { spawn } from "node:child_process";

export function startGateway(binary, config) {
  const gateway = spawn(binary, ["serve", "--config", config, "--listen", "http://127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"] });
  const url = new Promise((resolve, reject) => {
    let seen = "";
    gateway.stdout.on("data", (chunk) => {
      seen += chunk.toString();
      const match = seen.match(/profile 'p' at (\S+)/);
      if (match) resolve(match[1]);
    });
    gateway.on("exit", (code) => reject(new Error(`the gateway exited with ${code}:\n${seen}`)));
  });
  return { gateway, url };
}
