set terminal pngcairo size 1200,560 font 'DejaVu Sans,11' noenhanced
set output 'bench/results/latency.png'
$lat << EOD
"WS, 5000 msg/s" 0.166 0.335 0.664 0.843 1.676 2.247
"TCP, 5000 msg/s" 0.163 0.312 0.996 0.888 3.39 3.034
"WS, full load" 4.17 167.657 26.621 324.094 42.917 352.468
"TCP, full load" 3.954 120.128 20.916 273.661 34.88 280.304
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
