"""The terminal's desktop notification: the escape sequence, built by one pure function.

OSC 9 (iTerm2, WezTerm, Windows Terminal, kitty, foot, Ghostty) carries the message; OSC 777
(`notify;title;body`: urxvt, foot, WezTerm, Ghostty, VTE terminals) carries a title and a body.
Both are written: a terminal ignores the one it does not know. Inside tmux ($TMUX set) each is
wrapped in tmux's DCS passthrough (ESC P tmux; ... ESC \\, every ESC inside doubled), which tmux
forwards when `allow-passthrough` is on. The text comes from outside (labels, model names): line
breaks become spaces and every other control, format or invisible character (ESC, BEL, C1's ST and
CSI, bidi overrides) its escape through the one rule (untrusted.visible), so nothing in it can end
the sequence or start another; `;` is taken out of OSC 777's title, where it would end the field;
it is cut to MAX_TEXT characters.
"""

from __future__ import annotations

from grafient_tui.untrusted import cap, visible

ESC = "\x1b"
BEL = "\x07"
ST = ESC + "\\"
MAX_TEXT = 200


def _plain(text: str, limit: int = MAX_TEXT) -> str:
    return cap(visible(" ".join(text.split())), limit)


def _tmux(sequence: str) -> str:
    return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ST}"


def notification(title: str, body: str, *, tmux: bool = False) -> str:
    """The bytes (as text) to write to the terminal for one desktop notification."""
    title = _plain(title, 60).replace(";", ",")
    body = _plain(body)
    osc9 = f"{ESC}]9;{title}: {body}{BEL}"
    osc777 = f"{ESC}]777;notify;{title};{body}{BEL}"
    if tmux:
        return _tmux(osc9) + _tmux(osc777)
    return osc9 + osc777
