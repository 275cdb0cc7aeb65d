// The flows the package test deploys: the shipped examples, each on its own tab, with what a user has to set
// (the time server, where the server node listens) filled in for this machine; and small probes for the Catch path.

export type Node = Record<string, unknown>;

export interface LocalSetup {
  /** "address:port" of the time server the examples' config node should ask (a LAN server of ours). */
  timeServer: string;
  /** Where the examples' kisstime server node should listen. */
  serveAt: { address: string; port: number };
}

/** Every example on a tab of its own, sharing config nodes by id, as importing them all in the editor would. */
export function examplesForThisMachine(examples: { file: string; nodes: Node[] }[], local: LocalSetup): Node[] {
  const flow: Node[] = [];
  const configs = new Map<string, Node>();
  examples.forEach((example, i) => {
    const tab = 'pkgtab' + i;
    flow.push({ id: tab, type: 'tab', label: example.file.replace(/\.json$/, '') });
    for (const node of example.nodes) {
      if (typeof node.x !== 'number') {
        if (configs.has(String(node.id))) continue;
        configs.set(String(node.id), node.type === 'kisstime-servers'
          ? {
            ...node, servers: local.timeServer, lanServer: true, minInterval: '16', minIntervalUnit: 's', timeout: '2', startupDelay: '1',
            startupDelayUnit: 's',
          }
          : node);
        continue;
      }
      const copy: Node = { ...node, z: tab };
      if (copy.type === 'kisstime-server') Object.assign(copy, { address: local.serveAt.address, port: local.serveAt.port });
      flow.push(copy);
    }
  });
  return flow.concat(Array.from(configs.values()));
}

/** A catch node for everything on a tab, feeding a debug node that shows the whole msg.error. */
export function catchProbe(tab: string, prefix: string): Node[] {
  return [
    { id: prefix + '-catch', z: tab, type: 'catch', name: '', scope: null, uncaught: false, x: 100, y: 400, wires: [[prefix + '-caught']] },
    {
      id: prefix + '-caught', z: tab, type: 'debug', name: 'caught', active: true, tosidebar: true, console: false, tostatus: false,
      complete: 'error', targetType: 'msg', statusVal: '', statusType: 'auto', x: 300, y: 400, wires: [],
    },
  ];
}
