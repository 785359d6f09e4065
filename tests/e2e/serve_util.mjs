// Starting and stopping `autan serve` for the Node end-to-end tests. Node
// built-ins only, so every test package (clients, browser) can import it.
import { spawn } from "node:child_process";
import { join } from "node:path";

// Resolves to {proc, port} once the server prints its address. The web app's
// data goes to DIR/data and XDG_DATA_HOME is DIR/xdg: nothing of the user's
// own data directory is read or written.
export function startServer(autan, model, dir, args = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(autan, ["serve", "-m", model, "--port", "0", "-t", "2",
                               "--data-dir", join(dir, "data"), ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, XDG_DATA_HOME: join(dir, "xdg") },
    });
    let log = "";
    const timer = setTimeout(() => reject(new Error("autan serve did not start: " + log)), 60000);
    proc.stderr.on("data", (d) => {
      log += d.toString();
      const m = log.match(/on http:\/\/[^ ]+:(\d+) /);
      if (m && timer) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]) });
      }
    });
    proc.on("exit", (code) => reject(new Error(`autan serve exited ${code}: ${log}`)));
  });
}

// Sends SIGTERM and resolves to the exit code.
export function stopServer(server) {
  return new Promise((resolve) => {
    if (server.proc.exitCode !== null) return resolve(server.proc.exitCode);
    server.proc.removeAllListeners("exit");
    server.proc.on("exit", (code) => resolve(code));
    server.proc.kill("SIGTERM");
  });
}
