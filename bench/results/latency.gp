set terminal pngcairo size 1200,560 font 'DejaVu Sans,11' noenhanced
set output 'bench/results/latency.png'
$lat << EOD
"WS, 5000 msg/s" 0.143 0.244 0.715 0.685 2.481 1.783
"TCP, 5000 msg/s" 0.149 0.286 0.843 0.687 3.403 1.969
"WS, full load" 3.185 118.122 13.914 246.305 20.902 267.297
"TCP, full load" 2.767 162.89 12.999 238.149 20.591 244.677
EOD

set title "Latency percentiles, 200-byte messages (medians of runs; lower is better)"
set style data histogram
set style histogram cluster gap 1.5
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set ylabel "latency, ms (log scale)"
set grid ytics
set key top left box opaque
set xtics nomirror
plot $lat using 2:xtic(1) title 'msrpd p50' lc rgb '#9ecae1', \
  '' using 3 title 'Kamailio p50' lc rgb '#fcbba1', \
  '' using 4 title 'msrpd p99' lc rgb '#3182bd', \
  '' using 5 title 'Kamailio p99' lc rgb '#fb6a4a', \
  '' using 6 title 'msrpd p99.9' lc rgb '#08519c', \
  '' using 7 title 'Kamailio p99.9' lc rgb '#a50f15'
