// Original file: proto/speechgateway/v1/gateway.proto

export const LegRole = {
  LEG_ROLE_UNSPECIFIED: 'LEG_ROLE_UNSPECIFIED',
  LEG_ROLE_CUSTOMER: 'LEG_ROLE_CUSTOMER',
  LEG_ROLE_AGENT: 'LEG_ROLE_AGENT',
} as const;

export type LegRole =
  | 'LEG_ROLE_UNSPECIFIED'
  | 0
  | 'LEG_ROLE_CUSTOMER'
  | 1
  | 'LEG_ROLE_AGENT'
  | 2

export type LegRole__Output = typeof LegRole[keyof typeof LegRole]
