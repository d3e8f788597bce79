/*
 * ui.h - the two front ends of tollgate-prompt, each a struct agent_ui
 * (agent.h) that main.c hands to the agent.
 */
#ifndef TG_PROMPT_UI_H
#define TG_PROMPT_UI_H

#include "prompt/agent.h"

/* desktop.c: one libnotify notification per prompt, its answers as the
 * notification's actions. */
extern const struct agent_ui desktop_ui;

/* tty.c: a full-screen ANSI terminal view, one key per answer. */
extern const struct agent_ui tty_ui;

#endif
