/*
 * mailwire — umbrella header: include this one and get the whole public API.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MAILWIRE_MAILWIRE_H
#define MAILWIRE_MAILWIRE_H

#include <mailwire/common.h>
#include <mailwire/version.h>
#include <mailwire/codec.h>
#include <mailwire/rfc5322.h>
#include <mailwire/sasl.h>
#include <mailwire/smtp.h>
#include <mailwire/pop3.h>

#endif
