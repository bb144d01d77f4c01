'use strict';
// Starts one of our servers (httpkit-server, chat, ...) on a random free
// loopback port for the node peer tests, and stops it by PID: SIGTERM, a
// bounded wait, then SIGKILL. A server left at exit is killed too.

const { spawn } = require('node:child_process');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const repoRoot = path.resolve(__dirname, '..', '..', '..');

function binary(name) {
  let dir = process.env.HTTPKIT_BIN_DIR || 'build/bin';
  if (!path.isAbsolute(dir)) dir = path.join(repoRoot, dir);
  return path.join(dir, name);
}

function portInUse(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

function answers(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => { req.destroy(); resolve(false); });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const running = new Set();

process.on('exit', () => {
  for (const child of running) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

class PeerServer {
  constructor(name, args = []) {
    this.name = name;
    this.args = args;
    this.child = null;
    this.port = null;
    this.output = '';
  }

  async start(attempts = 8) {
    const file = binary(this.name);
    for (let attempt = 0; attempt < attempts; attempt++) {
      const port = 20000 + Math.floor(Math.random() * 10001);
      if (await portInUse(port)) continue;
      const child = spawn(file, ['--port', String(port), '--bind', '127.0.0.1', ...this.args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let exited = false;
      child.once('exit', () => { exited = true; running.delete(child); });
      child.once('error', (err) => { exited = true; this.output += String(err); });
      child.stdout.on('data', (d) => { this.output += d; });
      child.stderr.on('data', (d) => { this.output += d; });
      running.add(child);
      for (let i = 0; i < 100 && !exited; i++) {
        if (this.output.includes('Server started') && (await answers(port))) {
          this.child = child;
          this.port = port;
          console.log(`started ${this.name} pid ${child.pid} on 127.0.0.1:${port}`);
          return this;
        }
        await sleep(100);
      }
      this.child = child;
      await this.stop();
    }
    throw new Error(`could not start ${file}: ${this.output}`);
  }

  get url() { return `http://127.0.0.1:${this.port}`; }

  alive() { return this.child !== null && this.child.exitCode === null && this.child.signalCode === null; }

  // Resolves to the exit code (or the signal's name).
  async stop() {
    const child = this.child;
    this.child = null;
    if (!child) return null;
    const done = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', resolve);
    });
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await done;
      clearTimeout(timer);
    }
    running.delete(child);
    return child.exitCode !== null ? child.exitCode : child.signalCode;
  }
}

module.exports = { PeerServer, repoRoot, sleep };
