"""Names the writers put in their files: plain identifiers that the target language accepts."""
from __future__ import annotations

import re

__all__ = ["check_name", "VERILOG_KEYWORDS", "DOT_KEYWORDS"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Reserved words of SystemVerilog (IEEE 1800-2017, Annex B), which include every
#: Verilog (IEEE 1364) keyword: a module may not be named by one of them.
VERILOG_KEYWORDS = frozenset("""
accept_on alias always always_comb always_ff always_latch and assert assign assume automatic
before begin bind bins binsof bit break buf bufif0 bufif1 byte case casex casez cell chandle
checker class clocking cmos config const constraint context continue cover covergroup coverpoint
cross deassign default defparam design disable dist do edge else end endcase endchecker endclass
endclocking endconfig endfunction endgenerate endgroup endinterface endmodule endpackage
endprimitive endprogram endproperty endspecify endsequence endtable endtask enum event eventually
expect export extends extern final first_match for force foreach forever fork forkjoin function
generate genvar global highz0 highz1 if iff ifnone ignore_bins illegal_bins implements implies
import incdir include initial inout input inside instance int integer interconnect interface
intersect join join_any join_none large let liblist library local localparam logic longint
macromodule matches medium modport module nand negedge nettype new nexttime nmos nor
noshowcancelled not notif0 notif1 null or output package packed parameter pmos posedge primitive
priority program property protected pull0 pull1 pulldown pullup pulsestyle_ondetect
pulsestyle_onevent pure rand randc randcase randsequence rcmos real realtime ref reg reject_on
release repeat restrict return rnmos rpmos rtran rtranif0 rtranif1 s_always s_eventually
s_nexttime s_until s_until_with scalared sequence shortint shortreal showcancelled signed small
soft solve specify specparam static string strong strong0 strong1 struct super supply0 supply1
sync_accept_on sync_reject_on table tagged task this throughout time timeprecision timeunit tran
tranif0 tranif1 tri tri0 tri1 triand trior trireg type typedef union unique unique0 unsigned
until until_with untyped use uwire var vectored virtual void wait wait_order wand weak weak0
weak1 while wildcard wire with within wor xnor xor
""".split())

#: Graphviz DOT keywords (case-insensitive): a graph named by one is a syntax error.
DOT_KEYWORDS = frozenset("node edge graph digraph subgraph strict".split())


def check_name(name: object, language: str) -> str:
    """``name`` if it is a plain identifier (letters, digits, ``_``, not starting with a
    digit) and not a reserved word of ``language`` ("verilog", "blif" or "dot")."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    reserved = (language == "verilog" and name in VERILOG_KEYWORDS) or \
        (language == "dot" and name.lower() in DOT_KEYWORDS)
    if not _IDENT.fullmatch(name) or reserved:
        raise ValueError(f"name must be a plain identifier (letters, digits, _; not a {language} "
                         f"keyword), got {name!r}")
    return name
