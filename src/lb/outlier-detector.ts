/**
 * Envoy's outlier detection, the consecutive-error kinds Istio configures (success-rate and
 * failure-percentage detection stay off, as Istio leaves their enforcement at 0): per host, runs of
 * 5xx and of gateway errors (502, 503, 504; another 5xx ends the gateway run). The error that
 * completes a run ejects the host at once, if ejecting it keeps the ejected share (this host
 * included) within max_ejection_percent and the enforcing roll allows it; the run starts over either
 * way, and any response below 500 ends both runs. Un-ejection happens only on the interval timer's
 * ticks, once the host has been out for base_ejection_time × its back-off (capped at
 * max_ejection_time); a tick that finds a host back for at least an interval lowers its back-off.
 * Time comes in as numbers (ms) and ticks are run when asked, so this stays pure and synchronous.
 */
import type { RandomSource } from "./random-source.js";

export interface OutlierDetectionConfig {
  readonly consecutive5xx: number;
  /** Percent of detected 5xx runs that eject (Envoy default 100). */
  readonly enforcingConsecutive5xx: number;
  readonly consecutiveGatewayFailure: number;
  /** Percent of detected gateway-failure runs that eject (Envoy default 0). */
  readonly enforcingConsecutiveGatewayFailure: number;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
  readonly maxEjectionTimeMs: number;
}

/** Envoy's defaults for every field Istio leaves unset. */
export const ENVOY_OUTLIER_DEFAULTS: OutlierDetectionConfig = {
  consecutive5xx: 5,
  enforcingConsecutive5xx: 100,
  consecutiveGatewayFailure: 5,
  enforcingConsecutiveGatewayFailure: 0,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionPercent: 10,
  maxEjectionTimeMs: 300_000,
};

export type EjectionType = "consecutive_5xx" | "consecutive_gateway_failure";

export interface OutlierStats {
  ejectionsActive: number;
  ejectionsEnforcedTotal: number;
  ejectionsOverflow: number;
  ejectionsEnforcedConsecutive5xx: number;
  ejectionsDetectedConsecutive5xx: number;
  ejectionsEnforcedConsecutiveGatewayFailure: number;
  ejectionsDetectedConsecutiveGatewayFailure: number;
}

interface HostMonitor {
  consecutive5xx: number;
  consecutiveGateway: number;
  ejected: boolean;
  /** When the host was last ejected and last came back (ms). */
  ejectedAt: number;
  returnedAt: number;
  /** Envoy's ejection-time back-off: up by one per ejection, down by one per tick once back. */
  backoff: number;
}

/** Ticks run at most this many at once; later ones change nothing once every count is back at 0. */
const MAX_TICKS_PER_ADVANCE = 10_000;

export class OutlierDetector {
  readonly config: OutlierDetectionConfig;
  readonly stats: OutlierStats = {
    ejectionsActive: 0,
    ejectionsEnforcedTotal: 0,
    ejectionsOverflow: 0,
    ejectionsEnforcedConsecutive5xx: 0,
    ejectionsDetectedConsecutive5xx: 0,
    ejectionsEnforcedConsecutiveGatewayFailure: 0,
    ejectionsDetectedConsecutiveGatewayFailure: 0,
  };
  readonly #random: RandomSource;
  readonly #hosts = new Map<string, HostMonitor>();
  #nextTick: number;

  constructor(config: OutlierDetectionConfig, random: RandomSource, now: number) {
    // Envoy never keeps a host out for less than one base ejection time, whatever the maximum says.
    this.config = {
      ...config,
      maxEjectionTimeMs: Math.max(config.maxEjectionTimeMs, config.baseEjectionTimeMs),
    };
    this.#random = random;
    this.#nextTick = now + config.intervalMs;
  }

  /** The cluster's hosts after a membership change: monitors of hosts still present are kept. */
  setHosts(addresses: readonly string[]): void {
    const keep = new Set(addresses);
    for (const [address, monitor] of this.#hosts) {
      if (keep.has(address)) continue;
      if (monitor.ejected) this.stats.ejectionsActive--;
      this.#hosts.delete(address);
    }
    for (const address of addresses) {
      if (!this.#hosts.has(address))
        this.#hosts.set(address, {
          consecutive5xx: 0,
          consecutiveGateway: 0,
          ejected: false,
          ejectedAt: 0,
          returnedAt: 0,
          backoff: 0,
        });
    }
  }

  isEjected(address: string): boolean {
    return this.#hosts.get(address)?.ejected ?? false;
  }

  ejected(): string[] {
    return [...this.#hosts].filter(([, m]) => m.ejected).map(([address]) => address);
  }

  /**
   * A response status from the host, or a local-origin failure given as the status Envoy maps it to.
   * Returns whether this result ejected the host.
   */
  putResult(address: string, status: number, now: number): boolean {
    const monitor = this.#hosts.get(address);
    if (!monitor) return false;
    if (status < 500 || status > 599) {
      monitor.consecutive5xx = 0;
      monitor.consecutiveGateway = 0;
      return false;
    }
    let ejected = false;
    if (status >= 502 && status <= 504) {
      monitor.consecutiveGateway++;
      if (monitor.consecutiveGateway === this.config.consecutiveGatewayFailure) {
        ejected = this.#eject(monitor, "consecutive_gateway_failure", now);
      }
    } else monitor.consecutiveGateway = 0;
    monitor.consecutive5xx++;
    if (monitor.consecutive5xx === this.config.consecutive5xx) {
      ejected = this.#eject(monitor, "consecutive_5xx", now) || ejected;
    }
    return ejected;
  }

  #eject(monitor: HostMonitor, type: EjectionType, now: number): boolean {
    const gateway = type === "consecutive_gateway_failure";
    // The run starts over whether or not the host goes out.
    if (gateway) monitor.consecutiveGateway = 0;
    else monitor.consecutive5xx = 0;
    if (monitor.ejected) return false;
    if (gateway) this.stats.ejectionsDetectedConsecutiveGatewayFailure++;
    else this.stats.ejectionsDetectedConsecutive5xx++;
    const share = (100 * (this.stats.ejectionsActive + 1)) / this.#hosts.size;
    if (share > this.config.maxEjectionPercent) {
      this.stats.ejectionsOverflow++;
      return false;
    }
    const enforcing = gateway
      ? this.config.enforcingConsecutiveGatewayFailure
      : this.config.enforcingConsecutive5xx;
    if (this.#random() % 100n >= BigInt(enforcing)) return false;
    monitor.ejected = true;
    monitor.ejectedAt = now;
    const { baseEjectionTimeMs, maxEjectionTimeMs } = this.config;
    if (monitor.backoff * baseEjectionTimeMs < maxEjectionTimeMs + baseEjectionTimeMs) monitor.backoff++;
    this.stats.ejectionsActive++;
    this.stats.ejectionsEnforcedTotal++;
    if (gateway) this.stats.ejectionsEnforcedConsecutiveGatewayFailure++;
    else this.stats.ejectionsEnforcedConsecutive5xx++;
    return true;
  }

  /** Runs the interval ticks due by `now`; returns whether any host came back. */
  advance(now: number): boolean {
    let returned = false;
    for (let i = 0; this.#nextTick <= now; i++) {
      if (i >= MAX_TICKS_PER_ADVANCE) {
        // Every host has been in for over 10,000 intervals: all counts are 0, later ticks are no-ops.
        const missed = Math.floor((now - this.#nextTick) / this.config.intervalMs) + 1;
        this.#nextTick += missed * this.config.intervalMs;
        break;
      }
      if (this.#tick(this.#nextTick)) returned = true;
      this.#nextTick += this.config.intervalMs;
    }
    return returned;
  }

  #tick(now: number): boolean {
    let returned = false;
    const { baseEjectionTimeMs, maxEjectionTimeMs, intervalMs } = this.config;
    for (const monitor of this.#hosts.values()) {
      if (monitor.ejected) {
        if (now - monitor.ejectedAt >= Math.min(baseEjectionTimeMs * monitor.backoff, maxEjectionTimeMs)) {
          monitor.ejected = false;
          monitor.returnedAt = now;
          monitor.consecutive5xx = 0;
          monitor.consecutiveGateway = 0;
          this.stats.ejectionsActive--;
          returned = true;
        }
      } else if (monitor.backoff > 0 && now - monitor.returnedAt >= intervalMs) monitor.backoff--;
    }
    return returned;
  }
}
