// firewall.click: a stateless two-port firewall (bump in the wire).
//
// Frames from `inside` go to `outside` and back, unchanged, if the rules
// allow them; ARP always passes; everything else is dropped and counted.
// Rules (stateless):
//   inside -> outside: ICMP echo, DNS (UDP 53), HTTP/HTTPS (TCP 80, 443), SSH (TCP 22)
//   outside -> inside: ICMP echo replies, replies from those services
//                      (source port 53/80/443/22), and TCP to port 22 of 10.0.1.10

in_cl :: Classifier(12/0806, 12/0800, -);
out_cl :: Classifier(12/0806, 12/0800, -);
FromDevice(inside) -> in_cl;
FromDevice(outside) -> out_cl;

to_out :: ToDevice(outside);
to_in :: ToDevice(inside);

in_cl[0] -> to_out;
out_cl[0] -> to_in;
in_cl[2] -> in_other :: Discard;
out_cl[2] -> out_other :: Discard;

in_cl[1] -> Strip(14) -> CheckIPHeader
  -> egress :: IPFilter(allow icmp type echo,
                        allow udp && dst port 53,
                        allow tcp && dst port 80 or 443 or 22,
                        deny all)
  -> Unstrip(14) -> to_out;

out_cl[1] -> Strip(14) -> CheckIPHeader
  -> ingress :: IPFilter(allow icmp type echo-reply,
                         allow udp && src port 53,
                         allow tcp && src port 80 or 443 or 22,
                         allow tcp && dst host 10.0.1.10 && dst port 22,
                         deny all)
  -> Unstrip(14) -> to_in;
