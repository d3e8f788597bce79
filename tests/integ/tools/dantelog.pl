#!/usr/bin/perl
# dantelog.pl [KEY=VALUE...] < LOG - the SOCKS requests in a Dante
# (danted 1.4, debug: 1) log, one line each, in order, keeping those that
# carry every KEY=VALUE:
#   port=9050 atyp=name dst=a.test:443 user=u1 verdict=pass rep=0 cmd=1
#   ver=5 auth=pam.username src=10.152.152.11.40000
# A request child logs
#   dorequest(): command 1 request received from client SRC.  Accepted
#     on ADDR.PORT, matched by client-rule #1, auth: METHOD.  Packet:
#     VER: 5 CMD: 1 FLAG: 0 ATYP: 3 address: a.test.443
#   info: pass(2): tcp/connect [: METHOD%USER@SRC ADDR.PORT -> ...
# and, for a refusal, send_response(): sending response: VER: 5 REP: 2
# (that child serves one request at a time); SRC joins them.  The reply
# to a request that passed is sent by an I/O child, with the address
# Dante bound, whose port it makes the client's own: that port joins it.
use strict;
use warnings;

my @want = map { [ split /=/, $_, 2 ] } @ARGV;
@ARGV = ();
my (@reqs, %by_src, %by_pid);
my %atyp = (1 => "ipv4", 3 => "name", 4 => "ipv6");
while (my $l = <STDIN>) {
	my ($pid) = $l =~ /danted\[(\d+)\]/;
	if ($l =~ /dorequest\(\): command \d+ request received from client (\S+?)\.\s+Accepted on (\S+?)\.(\d+), .*?auth: (\S+?)\.\s+Packet: VER: (\d+) CMD: (\d+) FLAG: \d+ ATYP: (\d+) address: (\S+)\.(\d+)\s*$/) {
		my $r = { src => $1, port => $3, auth => $4,
		    ver => $5, cmd => $6,
		    atyp => $atyp{$7} // $7, dst => "$8:$9",
		    user => "-", verdict => "-", rep => "-" };
		push @reqs, $r;
		$by_src{$1} = $r;
		$by_pid{$pid} = $r if defined $pid;
	} elsif ($l =~ /send_response\(\): sending response: VER: \d+ REP: (\d+) FLAG: \d+ ATYP: \d+ address: \S*?\.(\d+),/) {
		my ($rep, $bport) = ($1, $2);
		# A refusal comes from the request child; a
		# success from an I/O child, from the address
		# Dante bound, on the client's own port.
		my $r = defined $pid ? $by_pid{$pid} : undef;
		unless ($r && $r->{rep} eq "-") {
			($r) = grep { $_->{rep} eq "-" &&
			    $_->{src} =~ /\.\Q$bport\E$/ } reverse @reqs;
		}
		if ($r) {
			$r->{rep} = $rep;
			delete $by_pid{$pid} if defined $pid;
		}
	} elsif ($l =~ /info: (pass|block)\(\d+\): tcp\/connect [\[\]]: (?:\S+?%(\S*)@)?(\d[\d.:a-f]*\.\d+) /) {
		my $r = $by_src{$3} or next;
		$r->{verdict} = $1;
		$r->{user} = $2 if defined $2 && $2 ne "";
	}
}
for my $r (@reqs) {
	next if grep { !defined $r->{$_->[0]} || $r->{$_->[0]} ne $_->[1] } @want;
	print join(" ", map { "$_=$r->{$_}" }
	    qw(port atyp dst user verdict rep cmd ver auth src)), "\n";
}
