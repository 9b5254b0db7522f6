/** The app's event bus: services publish AppEvents, adapters (IPC, WebSocket) forward them. */
import type { AppEvent } from '../shared/api.js';

export type EventListener = (e: AppEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(e: AppEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // One broken subscriber (a closed socket) must not stop the others or the job.
      }
    }
  }
}
