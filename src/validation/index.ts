/**
 * Istio's admission for networking.istio.io objects, as a cluster runs it: the webhook's semantic
 * rules (istiod, validation.istio.io) per kind. Pure: objects in, findings out.
 */
import { validateDestinationRule } from "./destination-rule.js";
import type { AdmissionFinding } from "./findings.js";
import { validateGateway } from "./gateway.js";
import { validateVirtualService } from "./virtual-service.js";

export type { AdmissionFinding, AdmissionLayer } from "./findings.js";

type KindValidator = (object: unknown, namespace: string, name: string) => AdmissionFinding[];

const WEBHOOK: Readonly<Record<string, KindValidator>> = {
  DestinationRule: validateDestinationRule,
  Gateway: validateGateway,
  VirtualService: validateVirtualService,
};

/** The Istio version whose admission is reproduced: rules and messages of this release. */
export const EMULATED_ISTIO_VERSION = "1.30";

/** Whether istiod's webhook validates this kind here (networking.istio.io, any of v1, v1beta1, v1alpha3). */
export function hasWebhookValidation(kind: string): boolean {
  return Object.hasOwn(WEBHOOK, kind);
}

/** The webhook's findings for one object of `kind` in `namespace`; [] for a kind it does not know. */
export function validateWebhook(
  kind: string,
  object: unknown,
  namespace: string,
  name: string,
): AdmissionFinding[] {
  const validate = WEBHOOK[kind];
  return validate ? validate(object, namespace, name) : [];
}

export { crdRuleFindings } from "./crd-rules.js";
